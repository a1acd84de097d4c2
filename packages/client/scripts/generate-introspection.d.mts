export const schemaPath: string;
export const outputPath: string;
export function renderIntrospection(sdl: string): string;
