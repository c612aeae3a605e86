import { buildService } from './app';

// Configuration comes from the environment (see .env.example); invalid values
// are all reported at once and the process exits.
async function main(): Promise<void> {
  await buildService().start();
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
