import type { ResourceProvisioner } from './provisioner.js';

/** The provisioners the platform has, keyed by CloudFormation type. */
export class ProvisionerRegistry {
  readonly #byType = new Map<string, ResourceProvisioner>();

  constructor(provisioners: readonly ResourceProvisioner[] = []) {
    for (const p of provisioners) this.register(p);
  }

  register(provisioner: ResourceProvisioner): void {
    if (this.#byType.has(provisioner.type)) {
      throw new Error(`a provisioner for ${provisioner.type} is registered twice`);
    }
    this.#byType.set(provisioner.type, provisioner);
  }

  get(type: string): ResourceProvisioner | undefined {
    return this.#byType.get(type);
  }

  types(): string[] {
    return [...this.#byType.keys()].sort();
  }
}
