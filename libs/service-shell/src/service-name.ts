/** The services' names and default ports live in @tidemark/config (the CLI and the test stack need them without Nest). */
export { SERVICE_NAMES, DEFAULT_PORTS, type ServiceName } from '@tidemark/config';
