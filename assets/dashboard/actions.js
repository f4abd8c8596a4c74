// Buttons that change something: they disable themselves while the request runs, say what
// happened in the toast, and ask the page to refresh. Deletes ask for confirmation first.
import { h } from './dom.js';

let toastTimer;

export function toast(message, kind = 'info') {
  const el = document.getElementById('toast');
  el.textContent = message;
  el.dataset.kind = kind;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (el.hidden = true), 5000);
}

/** Set by dashboard.js: refreshes the current view now. */
export const page = { refresh: () => {} };

/**
 * A button that runs `run()`; `done(result)` is the message shown after. `confirm` is asked
 * first (a delete). `key` keeps keyboard focus on the same button across refreshes.
 */
export function actionButton(label, { run, done, confirm: question, key, ariaLabel, kind }) {
  const button = h('button', { type: 'button', class: kind ? `btn btn--${kind}` : 'btn', 'aria-label': ariaLabel, 'data-key': key }, label);
  button.addEventListener('click', async () => {
    if (question && !window.confirm(question)) return;
    button.disabled = true;
    try {
      const result = await run();
      toast(done(result));
      await page.refresh();
    } catch (error) {
      toast(error.message || String(error), 'error');
    } finally {
      button.disabled = false;
    }
  });
  return button;
}
