import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

// The gateway serves its wwwroot (content root = services/progress-gateway), so the build lands there:
// `make run`, the end-to-end tests and the container image all serve the same files, and the edge fronts them.
const wwwroot = fileURLToPath(new URL('../services/progress-gateway/wwwroot', import.meta.url));

export default defineConfig({
  build: {
    outDir: wwwroot,
    emptyOutDir: true,
    target: 'es2022',
    // hls.js is loaded only when a finished job is shown; its chunk is large by nature.
    chunkSizeWarningLimit: 600,
  },
  server: {
    // `npm run dev` against a running stack: the edge answers the API calls.
    proxy: Object.fromEntries(['/process', '/jobs', '/progress', '/outputs', '/streams', '/stages'].map(p => [p, `http://127.0.0.1:${process.env.EDGE_PORT ?? 8080}`])),
  },
});
