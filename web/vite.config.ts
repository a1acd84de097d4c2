// The reference app's build: web/dist, served by `tessera serve` at `/` under a CSP with no inline script or style.
// Vite's output already complies (one module script tag, CSS as a file); `modulePreload.polyfill` is off because the
// polyfill is the one thing Vite would otherwise inline into index.html.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
  server: { proxy: { '/graphql': 'http://127.0.0.1:4000' } },
});
