import { describe, expect, it } from 'vitest';
import { safeRedirectPath } from './safe-redirect.js';

describe('the redirect after sign-in', () => {
  it('keeps paths on this site, with their query and fragment', () => {
    expect(safeRedirectPath('/runs?status=failed&env=prod')).toBe('/runs?status=failed&env=prod');
    expect(safeRedirectPath('/runs/deploy-1#step-3')).toBe('/runs/deploy-1#step-3');
    expect(safeRedirectPath('/')).toBe('/');
    expect(safeRedirectPath('/%2F%2Fevil')).toBe('/%2F%2Fevil');
  });

  it('refuses anything a browser could read as another host or scheme', () => {
    const attacks = [
      '//evil.example',
      '//evil.example/dashboard',
      '/\\evil.example',
      '/\\\\evil.example',
      '\\\\evil.example',
      '\\/evil.example',
      '/x\\..\\..\\evil',
      '/.//evil.example',
      '/..//evil.example',
      'https://evil.example',
      'HTTPS://evil.example/',
      'javascript:alert(1)',
      '%2F%2Fevil.example',
      '/\t/evil.example',
      '/\n/evil.example',
      '/\r\n/evil.example',
      '/\u0000evil',
      '/\u007f',
      'evil.example',
      '',
      null,
      undefined,
      42,
    ];
    for (const attack of attacks) expect({ attack, to: safeRedirectPath(attack) }).toEqual({ attack, to: '/dashboard' });
  });
});
