// `doctor`: is this machine (and workspace) ready for the course? Each finding says what to do.
import type { Command } from 'commander';
import { doctorText } from '../format.ts';
import { workspaceOption, type Context } from '../io.ts';

export function registerDoctorCommand(program: Command, { io, act }: Context): void {
  program
    .command('doctor')
    .description('check this machine and workspace: Node, workspace, progress, libraries, loopback, leftover workers, terminal')
    .option('--json', 'machine-readable output')
    .addOption(workspaceOption())
    .action(
      act(async (options: { json?: boolean; workspace?: string }) => {
        // Loaded here: its probes (Python, the database server, processes) are no other command's business.
        const { runDoctor } = await import('../../doctor.ts');
        const report = await runDoctor({ workspace: options.workspace });
        if (options.json) io.out(JSON.stringify(report, null, 2));
        else io.out(doctorText(report));
        return report.healthy ? 0 : 1;
      }),
    );
}
