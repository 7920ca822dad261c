// Ask: a question answered by the server's chat model from the frames that match it, with those it cites as
// thumbnails. Without a model, the page shows the frames it would have used and how to configure one.
import { api, ApiRequestError, type AskAnswer, type AskContext, type AskContextFrame, type AskFrame } from '../api.js';
import { formatFull, h, isoTime, pageTitle, thumbnail } from '../dom.js';
import { setUrl, type Route } from '../router.js';
import { momentLabel } from './search.js';

export function askPage(root: HTMLElement, route: Route): () => void {
  document.title = 'Ask · OpenRecall';
  let stopped = false;
  let controller: AbortController | undefined;

  const question = h('input', {
    type: 'search',
    id: 'ask-q',
    name: 'q',
    class: 'search__input',
    placeholder: 'What was the name of the hotel I booked last week?',
    autocomplete: 'off',
    value: route.query.get('q') ?? '',
  });
  const form = h(
    'form',
    { class: 'search', 'aria-label': 'Ask your screen history' },
    h(
      'div',
      { class: 'search__bar' },
      h('label', { for: 'ask-q', class: 'visually-hidden' }, 'Question'),
      question,
      h('button', { type: 'submit', class: 'button button--primary' }, 'Ask'),
    ),
  );
  const output = h('div', { class: 'ask', 'aria-live': 'polite' });
  root.append(h('div', { class: 'page' }, pageTitle('Ask'), form, output));

  const frameLink = (frame: AskFrame, caption = true) =>
    h(
      'a',
      { class: 'citation', href: frame.link, 'data-id': frame.id },
      thumbnail(frame.thumbnail_url, `${frame.app ?? 'Unknown app'}: ${frame.title ?? 'Untitled window'}`),
      caption
        ? h(
            'span',
            { class: 'citation__caption' },
            h('span', null, frame.title || 'Untitled window'),
            h('span', { class: 'muted' }, `${frame.app ?? 'Unknown app'} · `, h('time', { datetime: isoTime(frame.timestamp) }, formatFull(frame.timestamp))),
          )
        : null,
    );

  /** The answer's text, its [frame:ID] labels turned into links to the frames they cite. */
  function answerText(answer: AskAnswer): HTMLElement {
    const cited = new Map(answer.citations.map((c) => [c.id, c]));
    const p = h('p', { class: 'ask__answer' });
    for (const part of answer.answer.split(/(\[frame:\s*\d+\])/g)) {
      const id = /^\[frame:\s*(\d+)\]$/.exec(part)?.[1];
      const citation = id ? cited.get(Number(id)) : undefined;
      p.append(citation ? h('a', { href: citation.link, class: 'ask__label' }, part) : part);
    }
    return p;
  }

  function contextList(frames: AskContextFrame[]): HTMLElement {
    return h(
      'ol',
      { class: 'ask__context' },
      frames.map((f) =>
        h(
          'li',
          { 'data-id': f.id },
          h(
            'p',
            { class: 'result__meta muted' },
            h('a', { href: f.link }, `[frame:${f.id}]`),
            ` ${f.app ?? 'Unknown app'} · ${f.title ?? 'Untitled window'} · `,
            h('time', { datetime: isoTime(f.timestamp) }, formatFull(f.timestamp)),
            f.moment ? momentLabel(f.moment) : null,
          ),
          h('pre', { class: 'ask__text' }, f.text),
        ),
      ),
    );
  }

  const body = () => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question: question.value.trim() }) });

  async function run(): Promise<void> {
    controller?.abort();
    controller = new AbortController();
    const signal = controller.signal;
    output.replaceChildren(h('p', { class: 'muted' }, 'Thinking…'));
    form.setAttribute('aria-busy', 'true');
    try {
      const answer = await api<AskAnswer>('/api/ask', { ...body(), signal });
      if (stopped) return;
      output.replaceChildren(
        answerText(answer),
        answer.citations.length
          ? h(
              'div',
              { class: 'ask__citations', 'aria-label': 'Cited frames' },
              answer.citations.map((c) => frameLink(c)),
            )
          : h('p', { class: 'muted' }, 'The answer cites no frame.'),
        h(
          'details',
          { class: 'ask__details' },
          h('summary', null, `Show context (${answer.frames_considered} ${answer.frames_considered === 1 ? 'frame' : 'frames'} given to the model)`),
          contextList(answer.context),
        ),
      );
    } catch (e) {
      if ((e as Error).name === 'AbortError' || stopped) return;
      if (e instanceof ApiRequestError && e.code === 'CHAT_NOT_CONFIGURED') return noModel(e.message, signal);
      const text = e instanceof ApiRequestError && e.status === 400 ? `Check the question: ${e.message}` : `Ask failed: ${(e as Error).message}`;
      output.replaceChildren(h('p', { class: 'error', role: 'alert' }, text));
    } finally {
      form.removeAttribute('aria-busy');
    }
  }

  /** No chat model: how to configure one, and the moments that match the question. */
  async function noModel(line: string, signal: AbortSignal): Promise<void> {
    output.replaceChildren(h('p', { class: 'notice', role: 'status' }, line));
    try {
      const context = await api<AskContext>('/api/ask/context', { ...body(), signal });
      if (stopped) return;
      output.append(
        h('h2', { class: 'related__title' }, context.context.length ? 'Best matching moments' : 'No frame matches this question'),
        h(
          'div',
          { class: 'ask__citations' },
          context.context.map((f) => frameLink(f)),
        ),
      );
    } catch (e) {
      if ((e as Error).name !== 'AbortError' && !stopped) output.append(h('p', { class: 'error', role: 'alert' }, (e as Error).message));
    }
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!question.value.trim()) return question.focus();
    setUrl(`/ask?q=${encodeURIComponent(question.value.trim())}`);
    void run();
  });
  if (question.value.trim()) void run();
  else question.focus();

  return () => {
    stopped = true;
    controller?.abort();
  };
}
