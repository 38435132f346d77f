// Two views on one page: the home view (upload + dashboard) at `/`, a job at `/jobs/<id>` (a link that can be
// shared: the gateway answers a browser's request for it with this page).

export type Route = { view: 'home' } | { view: 'job'; id: string };

const listeners: ((route: Route) => void)[] = [];

export function currentRoute(path = location.pathname): Route {
  const match = /^\/jobs\/([^/]+)\/?$/.exec(path);
  return match ? { view: 'job', id: decodeURIComponent(match[1]) } : { view: 'home' };
}

export function onRoute(listener: (route: Route) => void): void {
  listeners.push(listener);
}

/** Follows an in-page link without a reload; a click with a modifier key keeps the browser's own behaviour. */
export function navigate(path: string, click?: MouseEvent): void {
  if (click && (click.defaultPrevented || click.button !== 0 || click.metaKey || click.ctrlKey || click.shiftKey || click.altKey)) return;
  click?.preventDefault();
  if (path !== location.pathname) history.pushState(null, '', path);
  emit();
}

function emit(): void {
  const route = currentRoute();
  for (const listener of listeners) listener(route);
}

export function startRouter(): void {
  window.addEventListener('popstate', emit);
  // Static links marked data-nav (the brand, "All jobs") stay in the page too.
  document.addEventListener('click', e => {
    const link = (e.target as Element | null)?.closest?.('a[data-nav]') as HTMLAnchorElement | null;
    if (link) navigate(link.pathname, e);
  });
  emit();
}
