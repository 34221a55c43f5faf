import type { ServiceDefinition } from './service-definition.js';

/**
 * The definition with each packaged layer's zip hash recorded in it, so the deployment hash
 * (and the skip check) changes when a layer's content does.
 */
export function withLayerArtifacts(
  definition: ServiceDefinition,
  layerArtifacts: Record<string, string>,
): ServiceDefinition {
  if (!definition.layers) return definition;
  const layers = Object.fromEntries(
    Object.entries(definition.layers).map(([key, layer]) => {
      const artifact = layerArtifacts[key] ?? layer.artifact;
      return [key, artifact === undefined ? layer : { ...layer, artifact }];
    }),
  );
  return { ...definition, layers };
}
