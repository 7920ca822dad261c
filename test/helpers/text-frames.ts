import type { Store } from '../../src/store/ports.js';
import { newFrame } from './store-frames.js';

export interface TextFrame {
  timestamp: number;
  text: string;
  app?: string;
  title?: string;
}

/** A processed frame whose screen text is set through the store, as the OCR stage saves it. */
export async function addTextFrame(store: Store, frame: TextFrame): Promise<number> {
  const { id } = await store.frames.insertPending(newFrame(frame.timestamp, { app: frame.app ?? 'Editor', title: frame.title ?? 'notes.txt' }));
  const claim = await store.frames.claimNext(1_000_000, { workerId: 'text-frames', seconds: 60 });
  if (claim?.entry.id !== id) throw new Error(`expected to claim frame ${id}, claimed ${claim?.entry.id}`);
  await store.frames.saveResults(id, { text: frame.text }, 'text-frames');
  if (!(await store.frames.complete(id, 'text-frames'))) throw new Error('complete refused');
  return id;
}
