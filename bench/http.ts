// What the HTTP scenarios share: a GraphQL call that fails loudly, and a percentile.

export async function gql(url: string, token: string | null, query: string, variables: Record<string, unknown> = {}, device?: string): Promise<any> {
  // An app client: it is handed session and device tokens in payloads (browsers get cookies only), and sends its
  // device token back on every request, as a real app keeps it.
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-tessera-client': 'app' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (device) headers['x-tessera-device'] = device;
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const json = (await res.json()) as { data: any; errors?: unknown };
  if (json.errors) throw new Error(JSON.stringify(json.errors));
  return json.data;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
