// The facade's own OpenAPI document, generated from the route table's zod schemas, so it cannot drift from what the
// handlers answer (the tests validate every answer against it).
import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import type { Route } from './routes.js';
import * as s from './schemas.js';

/** allauth's commit whose headless specification the schemas follow (README: "allauth-compatible REST"). */
export const allauthSpecCommit = '036d747b0a6d4d97d3544673c22ff030e70e48d8';

const commonResponses = {
  400: { description: 'An input error: allauth error objects (message, code, param).', schema: s.errorResponseSchema },
  403: { description: 'Forbidden: a browser request without a matching X-CSRFToken, from another origin, or a feature turned off.', schema: s.forbiddenResponseSchema },
  429: { description: 'Too many attempts (the attempt budget or the lockout); Retry-After says when to try again.', schema: s.tooManyRequestsResponseSchema },
  500: { description: 'An unexpected failure (logged with the request id).', schema: s.serverErrorResponseSchema },
} as const;

export function openApiDocument(routes: Route[]): object {
  const registry = new OpenAPIRegistry();
  const client = z.object({ client: z.enum(['browser', 'app']).describe('`browser`: session cookie and CSRF double submit; `app`: X-Session-Token, no cookies.') });
  const headers = z.object({
    'X-Session-Token': z.string().optional().describe('`app` clients: the session (or pending login) token from meta.session_token.'),
    'X-CSRFToken': z.string().optional().describe('`browser` clients, unsafe methods: the value of the `csrftoken` cookie.'),
  });
  for (const route of routes) {
    const responses: Record<string, { description: string; content: { 'application/json': { schema: z.ZodType } } }> = {};
    for (const [status, response] of Object.entries({ ...commonResponses, ...route.doc.responses })) {
      if (response) responses[status] = { description: response.description, content: { 'application/json': { schema: response.schema } } };
    }
    registry.registerPath({
      method: route.method.toLowerCase() as 'get' | 'post' | 'put' | 'delete',
      path: `/_allauth/{client}/v1${route.path}`,
      summary: route.doc.summary,
      request: {
        params: client,
        headers,
        ...(route.doc.query ? { query: route.doc.query } : {}),
        ...(route.doc.body ? { body: { required: true, content: { 'application/json': { schema: route.doc.body } } } } : {}),
      },
      responses,
    });
  }
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Tessera: allauth-compatible headless API',
      version: '1',
      description: `Tessera's REST facade, written from django-allauth's headless OpenAPI specification (commit ${allauthSpecCommit}). Every endpoint calls the same use case as the GraphQL API.`,
    },
  });
}
