import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import 'reflect-metadata';
import { HttpException, Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { SERVICE_CONFIG } from '../tokens';
import type { DependencyCheckProvider } from './dependency-check';
import { HealthController } from './health.controller';
import { HealthModule } from './health.module';

const DEP = Symbol('dep');

/** A stand-in for ConnectionsModule: only what HealthModule needs (config and one dependency). */
@Module({})
class FakeConnections {
  static with(depHealthy: () => boolean): DynamicModule {
    return {
      module: FakeConnections,
      global: true,
      providers: [
        { provide: SERVICE_CONFIG, useValue: { readyTimeoutMs: 500 } },
        { provide: DEP, useValue: depHealthy },
      ],
      exports: [SERVICE_CONFIG, DEP],
    };
  }
}

const depCheck: DependencyCheckProvider = {
  name: 'dep',
  inject: [DEP],
  create: (healthy: () => boolean) => async () => {
    if (!healthy()) throw new Error('dep is down');
  },
};

async function controllerWith(healthy: () => boolean) {
  @Module({ imports: [FakeConnections.with(healthy), HealthModule.forDependencies([depCheck])] })
  class Root {}
  const app = await NestFactory.create(Root, { logger: false, abortOnError: false });
  await app.init();
  return { app, controller: app.get(HealthController) };
}

describe('HealthModule', () => {
  it('builds checks from injected connections and reports them on /readyz', async () => {
    let healthy = true;
    const { app, controller } = await controllerWith(() => healthy);
    try {
      assert.deepEqual(controller.liveness(), { status: 'alive' });
      assert.deepEqual(await controller.readyz(), { status: 'ready', checks: { dep: 'ok' } });
      healthy = false;
      await assert.rejects(controller.readyz(), (err: unknown) => {
        assert.ok(err instanceof HttpException);
        assert.equal(err.getStatus(), 503);
        assert.deepEqual(err.getResponse(), {
          status: 'not-ready',
          checks: { dep: 'dep is down' },
          reason: 'dep: dep is down',
        });
        return true;
      });
    } finally {
      await app.close();
    }
  });

  it('answers draining once the application is shutting down', async () => {
    const { app, controller } = await controllerWith(() => true);
    await app.close();
    await assert.rejects(controller.readyz(), (err: unknown) => {
      assert.ok(err instanceof HttpException);
      assert.equal(err.getStatus(), 503);
      assert.equal((err.getResponse() as { status: string }).status, 'draining');
      return true;
    });
  });

  it('refuses two checks with the same name', () => {
    assert.throws(() => HealthModule.forDependencies([depCheck, depCheck]), /duplicate/);
  });
});
