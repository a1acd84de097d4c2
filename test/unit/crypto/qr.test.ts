import { runTool } from '../../helpers/tools.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { qrCodeSvg } from '../../../src/crypto/qr.js';
import { generateTotpSecret, totpUrl } from '../../../src/crypto/totp.js';

// Independent tools from Debian (librsvg2-bin, zbar-tools). `npm test` installs them; a missing tool fails the test
// with the install command instead of skipping, so the check cannot quietly stop running.

describe('qrCodeSvg', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-qr-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('renders an SVG that a QR reader decodes back to the exact otpauth URI', async () => {
    const url = totpUrl({ issuer: 'Tessera & Co', accountName: 'ana+mfa@example.com', secret: generateTotpSecret() });
    const svg = await qrCodeSvg(url);
    expect(svg.startsWith('<svg')).toBe(true);

    const svgPath = join(dir, 'totp.svg');
    const pngPath = join(dir, 'totp.png');
    writeFileSync(svgPath, svg);
    await runTool('rsvg-convert', ['--width', '400', '--height', '400', '--background-color', 'white', '-o', pngPath, svgPath]);
    const decoded = await runTool('zbarimg', ['--raw', '-q', pngPath]);
    expect(decoded.replace(/\n$/, '')).toBe(url);
  });
});
