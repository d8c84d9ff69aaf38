/**
 * The topics a service uses: those whose declaration in `@tidemark/bus` names the service as a producer or a
 * consumer (dead-letter topics list the consumers of their source topic as producers).
 */
import { topicList, type Topic, type Topics } from '@tidemark/bus';
import type { ServiceName } from '../service-name';

export function topicsUsedBy(topics: Topics, service: ServiceName): Topic[] {
  return topicList(topics).filter((t) => t.producers.includes(service) || t.consumers.includes(service));
}
