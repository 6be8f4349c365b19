import { describe, expect, it } from 'vitest';
import { armOf } from './holdout.js';

describe('armOf', () => {
  const ids = Array.from({ length: 20_000 }, (_, i) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`);

  it('holds out close to the asked share, the same person always in the same arm', () => {
    const control = ids.filter((id) => armOf('c1', id, 10) === 'control').length;
    expect(control / ids.length).toBeGreaterThan(0.09);
    expect(control / ids.length).toBeLessThan(0.11);
    for (const id of ids.slice(0, 100)) expect(armOf('c1', id, 10)).toBe(armOf('c1', id, 10));
  });

  it('holds out nobody at 0 % and draws independently per campaign', () => {
    expect(ids.every((id) => armOf('c1', id, 0) === 'treatment')).toBe(true);
    const a = ids.map((id) => armOf('c1', id, 50));
    const b = ids.map((id) => armOf('c2', id, 50));
    const same = a.filter((arm, i) => arm === b[i]).length / ids.length;
    expect(same).toBeGreaterThan(0.47);
    expect(same).toBeLessThan(0.53);
  });
});
