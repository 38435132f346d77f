import { expect, it } from 'vitest';
import { age, bytes, duration } from './format';

it('writes durations as m:ss, or h:mm:ss past an hour', () => {
  expect(duration(0)).toBe('0:00');
  expect(duration(65.4)).toBe('1:05');
  expect(duration(3725)).toBe('1:02:05');
  expect(duration(-3)).toBe('0:00');
});

it('writes sizes in decimal units', () => {
  expect(bytes(512)).toBe('512 B');
  expect(bytes(1_500_000)).toBe('1.5 MB');
  expect(bytes(250_000_000)).toBe('250 MB');
});

it('writes ages relative to now', () => {
  const now = Date.parse('2026-11-21T12:10:00Z');
  expect(age('2026-11-21T12:09:30Z', now)).toBe('30 s ago');
  expect(age('2026-11-21T12:00:00Z', now)).toBe('10 min ago');
  expect(age(undefined, now)).toBe('');
});
