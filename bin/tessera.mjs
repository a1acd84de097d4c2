#!/usr/bin/env node
// In production, the compiled JavaScript (`npm run build` writes dist/): no TypeScript compiler in the process, a
// faster start and less memory. Everywhere else the TypeScript itself through tsx, so a change needs no build step.
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/cli.js', import.meta.url);
if (process.env.NODE_ENV === 'production' && existsSync(compiled)) {
  await import(compiled.href);
} else {
  if (process.env.NODE_ENV === 'production') console.error('tessera: dist/ not built (npm run build); running the TypeScript through tsx');
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli.ts');
}
