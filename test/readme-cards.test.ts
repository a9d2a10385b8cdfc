/**
 * The README's model table against the shipped models' cards: every row links a card, its
 * parameter count is the card's, and its headline figure is the card's metric to the printed
 * precision; every shipped card has a row. A retrained model whose card changes fails here
 * until the README says the same.
 */
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import test from "ava";

const root = new URL("../", import.meta.url);
const modelsDir = "packages/models-mnist/models/";
const readme = readFileSync(fileURLToPath(new URL("README.md", root)), "utf8");

type Card = Record<string, unknown>;

/** The card value at a path such as "sample_quality.classifier_fid" or "likelihood.0.iwae_nll_nats". */
function at(card: Card, path: string): number {
  let v: unknown = card;
  for (const key of path.split(".")) v = (v as Record<string, unknown> | undefined)?.[key];
  if (typeof v !== "number") throw new Error(`card has no number at ${path}`);
  return v;
}

/** The headline labels the table may use: the card metric each one prints, and its scale. */
const METRICS: { label: RegExp; value: (card: Card) => number; scale?: number }[] = [
  { label: /^test NLL bound (\S+) nats$/, value: (c) => at(c, "test_nll_nats") },
  { label: /^test NLL (\S+) nats$/, value: (c) => at(c, "test_nll_nats") },
  {
    label: /^test IWAE NLL (\S+) nats$/,
    // the VAE's card holds one test set; the text-to-image CVAE's one per caption set, seen first
    value: (c) => ("iwae_nll_nats" in c ? at(c, "iwae_nll_nats") : at(c, "likelihood.0.iwae_nll_nats")),
  },
  { label: /^test reconstruction (\S+) nats$/, value: (c) => at(c, "reconstruction_nats") },
  { label: /^classifier-FID (\S+)$/, value: (c) => at(c, "sample_quality.classifier_fid") },
  { label: /^validation strict accuracy (\S+)%$/, value: (c) => at(c, "validation_strict_accuracy"), scale: 100 },
  { label: /^test accuracy (\S+)%$/, value: (c) => at(c, "test_accuracy"), scale: 100 },
  { label: /^strict accuracy on real canvases (\S+)%$/, value: (c) => at(c, "ceiling.0.strict_accuracy"), scale: 100 },
];

interface Row {
  model: string;
  params: string;
  headline: string;
  card: string;
}

/** The rows of the table under "## Models" whose header has a "card" column. */
function modelTable(text: string): Row[] {
  const section = text.split(/^## /m).find((s) => s.startsWith("Models\n"));
  if (section === undefined) throw new Error("README.md has no '## Models' section");
  const lines = section.split("\n").filter((l) => l.startsWith("|"));
  const header = splitRow(lines[0] ?? "");
  const col = (name: string): number => {
    const i = header.findIndex((h) => h.startsWith(name));
    if (i < 0) throw new Error(`the model table has no '${name}' column`);
    return i;
  };
  const [model, params, headline, card] = [col("model"), col("parameters"), col("headline"), col("card")];
  return lines.slice(2).map((l) => {
    const cells = splitRow(l);
    // the model cell's links read as their text: "[NADE](docs/models/nade.md), H = 500" -> "NADE, H = 500"
    const name = cells[model]!.replace(/\[([^\]]*)\]\([^)]*\)/g, "$1");
    return { model: name, params: cells[params]!, headline: cells[headline]!, card: cells[card]! };
  });
}

function splitRow(line: string): string[] {
  return line
    .replace(/^\|/, "")
    .replace(/\|$/, "")
    .split("|")
    .map((c) => c.trim());
}

function readCard(file: string): Card {
  return JSON.parse(readFileSync(fileURLToPath(new URL(file, root)), "utf8")) as Card;
}

const rows = modelTable(readme);

test("the README's model table has a row per shipped card, each linking its card", (t) => {
  const linked = rows.map((r) => {
    const m = /\]\((packages\/models-mnist\/models\/[\w.-]+\.card\.json)\)/.exec(r.card);
    t.truthy(m, `row '${r.model}' links no card`);
    return m?.[1];
  });
  const cards = readdirSync(fileURLToPath(new URL(modelsDir, root)))
    .filter((f) => f.endsWith(".card.json"))
    .map((f) => modelsDir + f);
  t.deepEqual([...linked].sort(), [...cards].sort());
});

for (const row of rows) {
  test(`README model table: ${row.model}`, (t) => {
    const file = /\]\(([^)]+\.card\.json)\)/.exec(row.card)?.[1];
    if (file === undefined) return t.fail(`row '${row.model}' links no card`);
    const card = readCard(file);

    t.is(Number(row.params.replaceAll(",", "")), at(card, "param_count"), "parameter count");

    const headline = row.headline.replaceAll("*", "").trim();
    const metric = METRICS.find((m) => m.label.test(headline));
    if (metric === undefined) return t.fail(`unknown headline '${headline}': add its card metric to METRICS`);
    const printed = metric.label.exec(headline)![1]!;
    const decimals = printed.includes(".") ? printed.length - printed.indexOf(".") - 1 : 0;
    const expected = (metric.value(card) * (metric.scale ?? 1)).toFixed(decimals);
    t.is(printed, expected, `${headline} against ${file}`);
  });
}
