import { describeAccessStore } from './access-store.contract';
import { MemoryAccessStore } from './memory-access-store';

describeAccessStore('MemoryAccessStore', async () => new MemoryAccessStore());
