/**
 * A chat model as naive as a small local one can be: it obeys any instruction it reads outside the data blocks
 * of its prompt, and otherwise answers from the first block that holds a word of the question, citing it (and
 * one frame that was never given, which Ask must drop). A block is `<<<MARKER` … `MARKER>>>` for any marker, so
 * text that could close its own block would escape it, and the model would obey what follows.
 */
export const NEVER_GIVEN_FRAME = 999_999;

export function naiveAnswer(body: { messages?: Array<{ role: string; content: string }> }): string {
  const prompt = (body.messages ?? []).map((m) => m.content).join('\n\n');
  const blocks: Array<{ label?: number; text: string }> = [];
  const outside = prompt.replace(/<<<(\S+)\n([\s\S]*?)\n\1>>>/g, (_whole, _marker: string, text: string, at: number) => {
    const label = [...prompt.slice(0, at).matchAll(/\[frame:(\d+)\]/g)].pop()?.[1];
    blocks.push({ label: label ? Number(label) : undefined, text });
    return '';
  });
  const order = /ignore (?:all )?(?:previous|prior) instructions\b[^\n]*?\b(?:say|reply|answer)(?: only)?(?: with)?:?\s*"?([^"\n]+)"?/i.exec(outside);
  if (order) return order[1]!.trim();
  const question = /Question: (.*)/.exec(outside)?.[1] ?? '';
  const words = question
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length >= 4);
  const block = blocks.find((b) => words.some((w) => b.text.toLowerCase().includes(w)));
  if (!block || block.label === undefined) return 'I cannot find that on your screens.';
  return `Your screen said: ${block.text.split('\n')[0]} [frame:${block.label}] (see also [frame:${NEVER_GIVEN_FRAME}])`;
}
