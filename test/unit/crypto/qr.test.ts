import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { qrCodeSvg } from '../../../src/crypto/qr.js';
import { generateTotpSecret, totpUrl } from '../../../src/crypto/totp.js';

// Independent tools from Debian (librsvg2-bin, zbar-tools). CI installs them; a missing tool fails the test with
// the install command instead of skipping, so the check cannot quietly stop running.
function run(tool: string, debianPackage: string, args: string[]): string {
  try {
    return execFileSync(tool, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(`${tool} is not installed: run \`apt-get install -y ${debianPackage}\``);
    }
    throw error;
  }
}

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
    run('rsvg-convert', 'librsvg2-bin', ['--width', '400', '--height', '400', '--background-color', 'white', '-o', pngPath, svgPath]);
    const decoded = run('zbarimg', 'zbar-tools', ['--raw', '-q', pngPath]);
    expect(decoded.replace(/\n$/, '')).toBe(url);
  });
});
