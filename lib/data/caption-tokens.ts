/**
 * Words to token ids for MNIST-Captions-60: the networks see captions only as ids, never as
 * parsed fields. A caption is normalized first (case, surrounding and repeated whitespace,
 * number words such as "three" to numerals, a final "." added when missing, a "." glued to
 * the last word split off), then each word is looked up; ids are padded with PAD to the
 * model's caption length.
 */
import { checkInteger } from "../core/check.js";
import { DeepgenError } from "../core/errors.js";
import { CAPTION_TOKENS } from "./mnist-captions.js";

/** Id 0 pads captions shorter than the model's length. */
export const PAD = "<pad>";
export const VOCABULARY: readonly string[] = [
  PAD,
  "the",
  "digit",
  "is",
  "on",
  "at",
  "left",
  "right",
  "top",
  "bottom",
  "of",
  "image",
  ".",
  "0",
  "1",
  "2",
  "3",
  "4",
  "5",
  "6",
  "7",
  "8",
  "9",
];

/**
 * tokenize's rule in words, for readers of an exported model who make token ids without
 * deepgen (the ONNX export's metadata carries it beside the vocabulary).
 */
export const TOKENIZATION_RULE =
  "lower-case; split on whitespace; number words zero..nine to numerals 0..9; a '.' glued to the last word split off, and a final '.' added when missing; each word's id is its index in the vocabulary (id 0, <pad>, is no word); ids padded with 0 to the caption length";

const NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];
const ID = new Map(VOCABULARY.map((w, i) => [w, i]));

/** The caption's words after normalization. */
export function captionWords(caption: string): string[] {
  if (typeof caption !== "string") throw new DeepgenError("E_ARG", `a caption must be a string, got ${typeof caption}`);
  const words = caption
    .trim()
    .toLowerCase()
    .split(/\s+/)
    .filter((w) => w.length > 0);
  if (words.length === 0) throw new DeepgenError("E_ARG", "the caption is empty");
  const last = words[words.length - 1]!;
  if (last.length > 1 && last.endsWith(".")) words.splice(words.length - 1, 1, last.slice(0, -1), ".");
  if (words[words.length - 1] !== ".") words.push(".");
  return words.map((w) => {
    const n = NUMBER_WORDS.indexOf(w);
    return n >= 0 ? String(n) : w;
  });
}

/** Normalized caption text (words joined by single spaces). */
export function normalizeCaption(caption: string): string {
  return captionWords(caption).join(" ");
}

/**
 * The normalized caption of each image of a generate call: one caption given as a string
 * stands for n images (default 1); a list gives one image per caption, and n, when given,
 * must match its length. `what` names the call in errors.
 */
export function captionRows(what: string, captions: string | readonly string[], n: number | undefined): string[] {
  if (typeof captions === "string") {
    const count = checkInteger(`${what}: n`, n ?? 1, 1);
    return new Array<string>(count).fill(normalizeCaption(captions));
  }
  if (!Array.isArray(captions) || captions.length === 0)
    throw new DeepgenError("E_ARG", `${what}: give a caption or a non-empty list of captions`);
  if (n !== undefined && n !== captions.length)
    throw new DeepgenError("E_ARG", `${what}: n (${n}) must match the ${captions.length} captions given, or be left out`);
  return captions.map((c) => normalizeCaption(c));
}

/** Token ids of one caption, padded with PAD (id 0) to `length`. */
export function tokenize(caption: string, length = CAPTION_TOKENS): Int32Array {
  checkInteger("caption length", length, 1);
  const words = captionWords(caption);
  if (words.length > length) {
    throw new DeepgenError("E_ARG", `the caption "${words.join(" ")}" has ${words.length} words; this model reads at most ${length}`);
  }
  const ids = new Int32Array(length);
  words.forEach((w, i) => {
    const id = ID.get(w);
    if (id === undefined || id === 0) {
      const known = VOCABULARY.slice(1);
      throw new DeepgenError(
        "E_ARG",
        `unknown word "${w}" in the caption "${caption.trim()}" (did you mean "${closestWord(w, known)}"?); known words: ${known.join(" ")}`,
      );
    }
    ids[i] = id;
  });
  return ids;
}

/** Token ids of several captions, [n, length] row-major. */
export function tokenizeAll(captions: readonly string[], length = CAPTION_TOKENS): Int32Array {
  const out = new Int32Array(captions.length * length);
  for (const [i, c] of captions.entries()) out.set(tokenize(c, length), i * length);
  return out;
}

/** The caption text of a row of token ids (padding dropped). */
export function detokenize(ids: ArrayLike<number>): string {
  const words: string[] = [];
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    const w = VOCABULARY[id];
    if (w === undefined) throw new DeepgenError("E_ARG", `token id ${id} is outside the vocabulary of ${VOCABULARY.length}`);
    if (id !== 0) words.push(w);
  }
  return words.join(" ");
}

/** The known word with the smallest edit distance (ties: the earlier word). */
export function closestWord(word: string, known: readonly string[]): string {
  let best = known[0]!;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = editDistance(word, k);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur.push(Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
