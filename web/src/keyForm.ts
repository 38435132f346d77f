// The API key form: shown when the browser holds no key, or the server refused the one it held.
// A key is tried (it buys a stream token) before it is kept, so a mistyped key is caught here.

import { ApiError, issueStreamToken } from './api';
import { saveKey } from './credentials';
import { byId, showText } from './dom';

export function showKeyForm(reason?: string): void {
  byId('home-view').hidden = true;
  byId('job-view').hidden = true;
  byId('forget-key').hidden = true;
  byId('key-view').hidden = false;
  showText(byId('key-error'), reason);
  const connection = byId('connection');
  connection.className = 'connection offline';
  connection.dataset.state = 'offline';
  connection.textContent = 'No API key';
  byId<HTMLInputElement>('key-input').focus();
}

export function startKeyForm(): void {
  const form = byId<HTMLFormElement>('key-form');
  const input = byId<HTMLInputElement>('key-input');
  const button = byId<HTMLButtonElement>('key-button');
  const error = byId('key-error');
  form.addEventListener('submit', async event => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) {
      showText(error, 'Enter your API key.');
      input.focus();
      return;
    }
    button.disabled = true;
    try {
      await issueStreamToken(key);
      saveKey(key);
      // Start the page afresh with the key, on the same address.
      location.reload();
    } catch (e) {
      showText(error, e instanceof ApiError && e.status === 401 ? 'The server refused this key. Check it and try again.' : (e as Error).message);
      input.focus();
    } finally {
      button.disabled = false;
    }
  });
}
