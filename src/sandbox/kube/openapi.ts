/** OpenAPI documents: none yet. */
export function openApiDocument(_path: string): unknown {
  return undefined;
}
