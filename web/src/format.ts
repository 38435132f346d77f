// Numbers as people read them.

export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}

export function bytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = n, unit = 0;
  while (value >= 1000 && unit < units.length - 1) { value /= 1000; unit++; }
  return `${value.toFixed(value >= 100 || unit === 0 ? 0 : 1)} ${units[unit]}`;
}

/** "12 s ago", "5 min ago", "3 h ago", then the date. */
export function age(from: string | undefined, now = Date.now()): string {
  if (!from) return '';
  const seconds = Math.max(0, (now - Date.parse(from)) / 1000);
  if (seconds < 60) return `${Math.floor(seconds)} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return new Date(from).toLocaleDateString();
}

export const percent = (value: number) => `${value.toFixed(value >= 100 || value === 0 ? 0 : 1)}%`;

export const capitalized = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
