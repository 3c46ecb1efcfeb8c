// Module resolution hook (see register.mjs): node:test, imported from a test file, resolves to the
// wrapper; the wrapper's own import of node:test resolves as usual.
const wrapper = new URL('./node-test.mjs', import.meta.url).href;

export async function resolve(specifier, context, nextResolve) {
  if (
    specifier === 'node:test' &&
    context.parentURL !== undefined &&
    context.parentURL !== wrapper &&
    context.parentURL.includes('/test/')
  )
    return { url: wrapper, shortCircuit: true };
  return nextResolve(specifier, context);
}
