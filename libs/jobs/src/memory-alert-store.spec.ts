import { describeAlertStore } from './alert-store.contract';
import { MemoryAlertStore } from './alert-store';

describeAlertStore('memory', async () => new MemoryAlertStore());
