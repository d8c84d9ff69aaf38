import { describeRestoreCatalog } from './restore-catalog.contract';
import { MemoryRestoreCatalog } from './memory-restore-catalog';

describeRestoreCatalog('memory', async () => new MemoryRestoreCatalog());
