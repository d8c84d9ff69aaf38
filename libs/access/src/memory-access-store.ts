/** A real in-memory {@link AccessStore} (unit specs): the same contract as the MongoDB one. */
import type { Role } from './role';
import { MAX_KEYS, type AccessStore, type ApiKeyRecord, type ProjectRecord } from './ports';

export class MemoryAccessStore implements AccessStore {
  private readonly projects = new Map<string, ProjectRecord>();
  private readonly keys = new Map<string, ApiKeyRecord>();

  async insertProject(project: ProjectRecord): Promise<boolean> {
    if (this.projects.has(project.name)) return false;
    this.projects.set(project.name, structuredClone(project));
    return true;
  }

  async getProject(name: string): Promise<ProjectRecord | undefined> {
    const p = this.projects.get(name);
    return p === undefined ? undefined : structuredClone(p);
  }

  async listProjects(names?: readonly string[]): Promise<ProjectRecord[]> {
    return [...this.projects.values()]
      .filter((p) => names === undefined || names.includes(p.name))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((p) => structuredClone(p));
  }

  async deleteProject(name: string): Promise<boolean> {
    if (!this.projects.delete(name)) return false;
    for (const [id, key] of this.keys) {
      if (!Object.prototype.hasOwnProperty.call(key.grants, name)) continue;
      const grants: Record<string, Role> = { ...key.grants };
      delete grants[name];
      this.keys.set(id, { ...key, grants });
    }
    return true;
  }

  async insertKey(key: ApiKeyRecord): Promise<boolean> {
    if (this.keys.has(key.id)) return false;
    this.keys.set(key.id, structuredClone(key));
    return true;
  }

  async getKey(id: string): Promise<ApiKeyRecord | undefined> {
    const k = this.keys.get(id);
    return k === undefined ? undefined : structuredClone(k);
  }

  async listKeys(): Promise<ApiKeyRecord[]> {
    return [...this.keys.values()]
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : 1))
      .slice(0, MAX_KEYS)
      .map((k) => structuredClone(k));
  }

  async revokeKey(id: string, at: Date): Promise<boolean> {
    const k = this.keys.get(id);
    if (k === undefined) return false;
    if (k.revokedAt === undefined) this.keys.set(id, { ...k, revokedAt: new Date(at) });
    return true;
  }

  async touchKey(id: string, at: Date): Promise<void> {
    const k = this.keys.get(id);
    if (k !== undefined) this.keys.set(id, { ...k, lastUsedAt: new Date(at) });
  }
}
