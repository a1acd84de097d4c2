// GraphiQL from our own origin. Yoga's default page pulls its scripts, styles and workers from unpkg.com (and its icon
// from GitHub): third-party code beside the session cookie, and a blank page offline. @graphql-yoga/render-graphiql
// bundles the same GraphiQL; its page inlines everything in one <script>, which our CSP forbids, so we serve the
// bundle's parts as same-origin files under /graphiql/ and the page only references them.
import { createHash } from 'node:crypto';
import type http from 'node:http';
import type { GraphiQLOptions } from 'graphql-yoga';

export const graphiqlAssetPrefix = '/graphiql/';

/**
 * Sets Monaco's worker URLs before the bundle runs (it reads them at load), then loads the bundle and renders.
 * A file, not an inline script, so `script-src 'self'` holds on this page too.
 */
const startScript = `'use strict';
(function () {
  var workers = {
    editorWorkerService: '${graphiqlAssetPrefix}editor.worker.js',
    json: '${graphiqlAssetPrefix}json.worker.js',
    graphql: '${graphiqlAssetPrefix}graphql.worker.js',
  };
  self.MonacoEnvironment = { globalAPI: false, getWorkerUrl: function (_moduleId, label) { return workers[label]; } };
  var root = document.getElementById('root');
  var bundle = document.createElement('script');
  bundle.src = '${graphiqlAssetPrefix}graphiql.js';
  bundle.onload = function () { YogaGraphiQL.renderYogaGraphiQL(root, JSON.parse(root.dataset.options || '{}')); };
  document.body.appendChild(bundle);
})();
`;

/** The page yoga sends for a browser's GET /graphql; the options travel in a data attribute, not in a script. */
export function renderLocalGraphiQL(options: GraphiQLOptions): string {
  const title = escapeHtml(options.title ?? 'GraphiQL');
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>${title}</title>
    <link rel="icon" href="${graphiqlAssetPrefix}favicon.ico" />
    <link rel="stylesheet" href="${graphiqlAssetPrefix}graphiql.css" />
  </head>
  <body id="body" class="no-focus-outline">
    <noscript>You need to enable JavaScript to run this app.</noscript>
    <div id="root" data-options="${escapeHtml(JSON.stringify(options))}"></div>
    <script src="${graphiqlAssetPrefix}start.js"></script>
  </body>
</html>
`;
}

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

let assets: Promise<Map<string, Asset>> | undefined;

/**
 * The bundle is 9 MB of JavaScript strings: imported on the first GraphiQL request only, so neither start-up nor a
 * production server (where GraphiQL is off) pays for it.
 */
function loadAssets(): Promise<Map<string, Asset>> {
  assets ??= import('@graphql-yoga/render-graphiql/graphiql').then((bundle) => {
    const js = 'text/javascript; charset=utf-8';
    const files: Array<[string, string | Buffer, string]> = [
      ['start.js', startScript, js],
      ['graphiql.js', bundle.js, js],
      ['graphiql.css', bundle.css, 'text/css; charset=utf-8'],
      ['editor.worker.js', bundle.editorWorkerService, js],
      ['json.worker.js', bundle.jsonWorker, js],
      ['graphql.worker.js', bundle.graphqlWorker, js],
      ['favicon.ico', Buffer.from(bundle.favicon.replace(/^data:[^,]*;base64,/, ''), 'base64'), 'image/x-icon'],
    ];
    return new Map(files.map(([name, content, type]) => {
      const body = Buffer.from(content);
      return [`${graphiqlAssetPrefix}${name}`, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` }];
    }));
  });
  return assets;
}

/** Answers GET /graphiql/<file>; false when the path is not one of ours. Revalidated by ETag: the names carry no hash. */
export async function serveGraphiQLAsset(req: http.IncomingMessage, res: http.ServerResponse, pathname: string): Promise<boolean> {
  if ((req.method !== 'GET' && req.method !== 'HEAD') || !pathname.startsWith(graphiqlAssetPrefix)) return false;
  const asset = (await loadAssets()).get(pathname);
  if (!asset) return false;
  const headers = { etag: asset.etag, 'cache-control': 'no-cache' };
  if (req.headers['if-none-match'] === asset.etag) {
    res.writeHead(304, headers).end();
    return true;
  }
  res.writeHead(200, { ...headers, 'content-type': asset.type, 'content-length': asset.body.length });
  res.end(req.method === 'HEAD' ? undefined : asset.body);
  return true;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
