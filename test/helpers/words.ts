/** Ordinary English words for rendered test screens (no digits or punctuation, so OCR recall is well defined). */
export const WORDS = `account address agenda almond answer anchor apple archive arrow autumn balance banner basket beacon
border bottle branch bridge bright budget button cabinet camera candle canvas carbon castle ceiling channel chapter
circle clever cloud coffee column comfort copper corner cotton country courage credit crystal culture custom danger
decade delta desert design detail dinner doctor dollar domain double dragon drawer driver eagle editor effort
elbow empire engine escape evening export fabric falcon family farmer feather figure filter finger forest format
fossil friend frozen galaxy garden garlic gentle giant ginger glass golden gravity guitar hammer harbor harvest
health helmet hidden history holiday honest horizon hunter island jacket jungle kernel kettle kitchen ladder
lantern laptop leader legend lemon letter library liquid lizard lobster magnet manual marble market meadow
medal member memory mentor method middle mirror modern moment monkey motion mountain museum needle network
number object office orange orbit output oxygen packet paddle palace panel parcel pencil pepper pillow planet
plastic pocket poetry police portal powder prairie profit public puzzle quarter rabbit radar random record
remote rescue ribbon river rocket rubber saddle salmon sample schema season second secret select server shadow
signal silver simple socket spider spring square stable statue studio summer sunset switch symbol system
tablet target temple tennis ticket timber tomato travel tunnel turtle umbrella update valley velvet vendor
violin vision volume wallet walnut window winter wizard yellow zebra`
  .split(/\s+/)
  .filter(Boolean);

/** Deterministic pick of `count` distinct words starting at `offset`. */
export function pickWords(count: number, offset = 0): string[] {
  return Array.from({ length: count }, (_, i) => WORDS[(offset + i * 7) % WORDS.length]!);
}

/** Share of expected words found as whole words in the OCR text (case-insensitive). */
export function wordRecall(expected: string[], text: string): number {
  const found = new Set(
    text
      .toLowerCase()
      .split(/[^a-z]+/)
      .filter(Boolean),
  );
  return expected.filter((w) => found.has(w.toLowerCase())).length / expected.length;
}
