// A little DOM building, so views read as structure rather than createElement calls.

type Child = Node | string | null | undefined | false;
type Attributes = Record<string, string | number | boolean | undefined | null | EventListener>;

/** h('a', { href: '/', class: 'x', onclick: fn }, 'text', child) */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === 'function') element.addEventListener(name.replace(/^on/, ''), value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) if (child !== null && child !== undefined && child !== false) element.append(child);
  return element;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} is missing from index.html`);
  return element as T;
}

/** Sets text and hides the element when there is none. */
export function showText(element: HTMLElement, text: string | null | undefined): void {
  element.textContent = text ?? '';
  element.hidden = !text;
}

/** Keeps a role=progressbar element (its fill is the first child) in step with a 0–100 value. */
export function setBar(bar: HTMLElement, value: number, text?: string): void {
  const clamped = Math.max(0, Math.min(100, value));
  bar.setAttribute('aria-valuenow', clamped.toFixed(0));
  bar.setAttribute('aria-valuetext', text ?? `${clamped.toFixed(0)}%`);
  (bar.firstElementChild as HTMLElement).style.width = `${clamped}%`;
}

export function progressBar(label: string, extraClass = ''): HTMLDivElement {
  return h('div', { class: `bar ${extraClass}`.trim(), role: 'progressbar', 'aria-label': label, 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': 0 },
    h('div', { class: 'bar-fill' }));
}

/** Copies text, also where the async clipboard is not offered (a plain-http page on a LAN address). */
export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = h('textarea', { class: 'visually-hidden', 'aria-hidden': 'true' });
    area.value = text;
    document.body.append(area);
    area.select();
    const copied = document.execCommand('copy');
    area.remove();
    return copied;
  }
}
