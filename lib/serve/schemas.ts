/** JSON schemas of every request: unknown properties are refused, not ignored. */
const SEED = {
  anyOf: [
    { type: "integer", minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
    { type: "string", pattern: "^[0-9]{1,20}$" },
  ],
} as const;

const FORMAT = { type: "string", enum: ["png", "json", "npy"] } as const;

const ROWS = { type: "array", items: { type: "array", items: { type: "number" } }, minItems: 1 } as const;

export const NAME_PARAMS = {
  type: "object",
  properties: { name: { type: "string", minLength: 1, maxLength: 200 } },
  required: ["name"],
  additionalProperties: false,
} as const;

export const SAMPLE_BODY = {
  type: "object",
  properties: { n: { type: "integer", minimum: 1 }, seed: SEED, format: FORMAT, code: { type: "integer", minimum: 0 } },
  required: ["n"],
  additionalProperties: false,
} as const;

export const LOGPROB_JSON_BODY = {
  type: "object",
  properties: { x: ROWS, k: { type: "integer", minimum: 1 }, seed: SEED },
  required: ["x"],
  additionalProperties: false,
} as const;

/** A PNG body's options travel in the query string. */
export const LOGPROB_QUERY = {
  type: "object",
  properties: { k: { type: "string", pattern: "^[0-9]{1,9}$" }, seed: { type: "string", pattern: "^[0-9]{1,20}$" } },
  additionalProperties: false,
} as const;

export const COMPLETE_BODY = {
  type: "object",
  properties: { x: ROWS, rows: { type: "integer", minimum: 0 }, seed: SEED, format: FORMAT },
  required: ["x", "rows"],
  additionalProperties: false,
} as const;

export const NO_QUERY = { type: "object", properties: {}, additionalProperties: false } as const;
