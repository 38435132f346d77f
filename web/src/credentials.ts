// The API key the page acts with: typed in once, kept in this browser's localStorage until forgotten.
// Every request sends it as `Authorization: Bearer`; EventSource cannot, so streams use a stream token (streamToken.ts).

const STORAGE_KEY = 'vidline.apiKey';
export const KEY_REFUSED = 'vidline:key-refused';

export function storedKey(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null; // storage switched off: the page asks again
  }
}

export function saveKey(key: string): void {
  localStorage.setItem(STORAGE_KEY, key.trim());
}

export function forgetKey(): void {
  localStorage.removeItem(STORAGE_KEY);
}

/** The header that carries the key, for fetch and XMLHttpRequest. */
export function authorization(key = storedKey()): Record<string, string> {
  return key ? { Authorization: `Bearer ${key}` } : {};
}

/** Any request answered 401 says so; the page then asks for a key again (main.ts). */
export function keyRefused(): void {
  window.dispatchEvent(new Event(KEY_REFUSED));
}
