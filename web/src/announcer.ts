// Status changes for screen readers: one polite live region, so bars can move without being read out.

import { byId } from './dom';

let last = '';

export function announce(text: string): void {
  const region = byId('announcer');
  // The same sentence twice in a row would not be read again; a trailing space makes it new.
  last = text === last ? `${text} ` : text;
  region.textContent = last;
}
