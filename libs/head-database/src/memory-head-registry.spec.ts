import { describeHeadRegistry } from './head-registry.contract';
import { MemoryHeadRegistry } from './memory-head-registry';

describeHeadRegistry('memory', async () => ({
  registry: new MemoryHeadRegistry(),
  close: async () => undefined,
}));
