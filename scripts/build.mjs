// npm run build: src/ compiled to dist/ by tsc (same layout, so paths relative to a module still hold), plus what tsc
// does not copy: the SQL migrations, which migrate.ts reads from beside itself.
import { spawnSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
// A file deleted from src/ must not live on in dist/.
rmSync(`${root}dist`, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const compiled = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
if (compiled.status !== 0) process.exit(compiled.status ?? 1);
cpSync(`${root}src/eventstore/migrations`, `${root}dist/eventstore/migrations`, { recursive: true });
