import { MemoryOplogStore } from './memory-oplog-store';
import { describeOplogStore } from './oplog-store.contract';

describeOplogStore('memory', async () => ({ store: new MemoryOplogStore(), close: async () => undefined }));
