export function sourceHash(): string;
export function webBuildIsFresh(): boolean;
export function ensureWebBuild(options?: { log?: (message: string) => void }): Promise<'fresh' | 'built' | 'unavailable'>;
