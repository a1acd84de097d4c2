// Debian tools the tests use as independent implementations (oathtool, zbarimg, rsvg-convert, chromium). They run
// asynchronously, so a test never blocks its event loop while the server's keep-alive sockets are open, and a missing
// tool fails with the exact install command instead of a bare "command not found".
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';

export const debianPackageOf: Record<string, string> = {
  oathtool: 'oathtool',
  zbarimg: 'zbar-tools',
  'rsvg-convert': 'librsvg2-bin',
  chromium: 'chromium',
};

export function installHint(tool: string): string {
  return `${tool} is not installed: run \`apt-get update && apt-get install -y ${debianPackageOf[tool] ?? tool}\` (or just \`npm test\`, which installs it)`;
}

export function runTool(tool: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(tool, args, { encoding: 'utf8' }, (error, stdout, stderr) => {
      if ((error as NodeJS.ErrnoException | null)?.code === 'ENOENT') reject(new Error(installHint(tool)));
      else if (error) reject(new Error(`${tool} ${args.join(' ')} failed: ${stderr || error.message}`));
      else resolve(stdout);
    });
  });
}

/** The browser's path, or an error that says how to install it. */
export function requireExecutable(path: string, tool: string): string {
  if (!existsSync(path)) throw new Error(installHint(tool));
  return path;
}
