import fs from 'node:fs';
import path from 'node:path';

/**
 * Writes a real, tiny sentence-embedding model directory in the Hugging Face layout (config.json,
 * tokenizer.json, onnx/model.onnx) so the `local` provider can be tested end to end without downloading
 * weights: a word-level tokenizer and an ONNX graph that looks each token up in an embedding table
 * (Gather), which transformers.js then mean-pools. Synonyms share a row, so the model "understands" them.
 */

// Minimal protobuf writer: just what an ONNX ModelProto needs.
const varint = (value: number | bigint): Buffer => {
  let v = BigInt(value);
  const bytes: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    bytes.push(byte);
  } while (v > 0n);
  return Buffer.from(bytes);
};
const tag = (field: number, wire: number) => varint((field << 3) | wire);
const int = (field: number, value: number) => Buffer.concat([tag(field, 0), varint(value)]);
const bytes = (field: number, value: Buffer | string) => {
  const data = typeof value === 'string' ? Buffer.from(value) : value;
  return Buffer.concat([tag(field, 2), varint(data.length), data]);
};
const message = (field: number, ...parts: Buffer[]) => bytes(field, Buffer.concat(parts));

const INT64 = 7;
const FLOAT = 1;

function tensorType(field: number, elemType: number, dims: Array<string | number>): Buffer {
  const shape = dims.map((d) => message(1, typeof d === 'string' ? bytes(2, d) : int(1, d)));
  return message(field, message(1, int(1, elemType), message(2, ...shape)));
}

function valueInfo(field: number, name: string, elemType: number, dims: Array<string | number>): Buffer {
  return message(field, bytes(1, name), tensorType(2, elemType, dims));
}

export const TINY_MODEL_DIM = 8;

export function writeTinyModel(dir: string): string {
  const groups = [
    ['[UNK]'],
    ['[PAD]'],
    ['car', 'cars', 'automobile', 'vehicle'],
    ['insurance', 'policy'],
    ['banana', 'fruit'],
    ['invoice', 'bill'],
    ['meeting', 'calendar'],
  ];
  const vocab: Record<string, number> = {};
  const rows: number[][] = [];
  groups.forEach((words, group) => {
    // One basis direction per meaning (plus a little of a shared one), the same row for each synonym.
    const row = Array.from({ length: TINY_MODEL_DIM }, (_, d) => (d === group % TINY_MODEL_DIM ? 1 : 0.05));
    for (const word of words) {
      vocab[word] = rows.length;
      rows.push(row);
    }
  });
  const table = Buffer.from(new Float32Array(rows.flat()).buffer);

  const graph = Buffer.concat([
    message(1, bytes(1, 'embeddings'), bytes(1, 'input_ids'), bytes(2, 'last_hidden_state'), bytes(3, 'lookup'), bytes(4, 'Gather')),
    bytes(2, 'tiny-embedder'),
    message(5, int(1, rows.length), int(1, TINY_MODEL_DIM), int(2, FLOAT), bytes(8, 'embeddings'), bytes(9, table)),
    valueInfo(11, 'input_ids', INT64, ['batch', 'sequence']),
    valueInfo(12, 'last_hidden_state', FLOAT, ['batch', 'sequence', TINY_MODEL_DIM]),
  ]);
  const model = Buffer.concat([int(1, 8), bytes(2, 'openrecall-test'), message(7, graph), message(8, bytes(1, ''), int(2, 13))]);

  fs.mkdirSync(path.join(dir, 'onnx'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'onnx', 'model.onnx'), model);
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ model_type: 'bert', architectures: ['BertModel'], hidden_size: TINY_MODEL_DIM }));
  fs.writeFileSync(
    path.join(dir, 'tokenizer.json'),
    JSON.stringify({
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: [
        { id: 0, content: '[UNK]', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
        { id: 1, content: '[PAD]', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
      ],
      normalizer: { type: 'Lowercase' },
      pre_tokenizer: { type: 'Whitespace' },
      post_processor: null,
      decoder: null,
      model: { type: 'WordLevel', vocab, unk_token: '[UNK]' },
    }),
  );
  fs.writeFileSync(
    path.join(dir, 'tokenizer_config.json'),
    JSON.stringify({ model_max_length: 512, pad_token: '[PAD]', unk_token: '[UNK]', tokenizer_class: 'PreTrainedTokenizer' }),
  );
  return dir;
}
