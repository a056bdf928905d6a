import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import {
  CLAMAV_IMAGE,
  MailroomPipeline,
  MailroomStack,
  RSPAMD_IMAGE,
  SmtpIngress,
  type SmtpIngressProps,
} from '../../cdk/index.ts';
import { EXAMPLE_CONFIG, testStack, thrown } from './support.ts';

function ingress(props: Partial<SmtpIngressProps> = {}) {
  const stack = testStack();
  const pipeline = new MailroomPipeline(stack, 'Pipeline', { configFile: EXAMPLE_CONFIG });
  new SmtpIngress(stack, 'Smtp', {
    pipeline,
    image: ecs.ContainerImage.fromRegistry('public.ecr.aws/example/mailroom:test'),
    ...props,
  });
  return { stack, template: Template.fromStack(stack) };
}

type Container = {
  Name: string;
  Image: unknown;
  Memory?: number;
  MemoryReservation?: number;
  Essential?: boolean;
  HealthCheck?: { Command: string[]; StartPeriod?: number; Interval?: number; Retries?: number };
  DependsOn?: { ContainerName: string; Condition: string }[];
  Environment?: { Name: string; Value: unknown }[];
  PortMappings?: { ContainerPort: number }[];
};

function containers(template: Template): { task: Record<string, unknown>; byName: Map<string, Container> } {
  const tasks = Object.values(template.findResources('AWS::ECS::TaskDefinition'));
  expect(tasks).toHaveLength(1);
  const task = (tasks[0] as { Properties: Record<string, unknown> }).Properties;
  const list = task.ContainerDefinitions as Container[];
  return { task, byName: new Map(list.map((c) => [c.Name, c])) };
}

describe('SmtpIngress scanner sidecars', () => {
  it('adds none by default (one container, 0.5 vCPU, 1 GiB)', () => {
    const { task, byName } = containers(ingress().template);
    expect([...byName.keys()]).toEqual(['smtp']);
    expect(task).toMatchObject({ Cpu: '512', Memory: '1024' });
    const env = (byName.get('smtp')?.Environment ?? []).map((e) => e.Name);
    expect(env.filter((n) => n.startsWith('MAILROOM_SCAN_'))).toEqual([]);
  });

  it('runs rspamd and clamd beside smtp: pinned images, health checks, memory for the ClamAV database, smtp waiting for both', () => {
    const { template } = ingress({ spamFilter: true, virusScan: true });
    const { task, byName } = containers(template);
    expect([...byName.keys()].sort()).toEqual(['clamav', 'rspamd', 'smtp']);
    // 1 GiB for smtp + 512 MiB rspamd + 3 GiB clamd, as a Fargate size.
    expect(task).toMatchObject({ Cpu: '1024', Memory: '5120' });

    const rspamd = byName.get('rspamd')!;
    expect(rspamd.Image).toBe(RSPAMD_IMAGE);
    expect(RSPAMD_IMAGE).toMatch(/^rspamd\/rspamd:\d+\.\d+\.\d+$/);
    expect(rspamd).toMatchObject({ Essential: true, Memory: 512, PortMappings: [{ ContainerPort: 11333 }] });
    expect(rspamd.HealthCheck?.Command.join(' ')).toMatch(/rspamc .*stat/);

    const clamav = byName.get('clamav')!;
    expect(clamav.Image).toBe(CLAMAV_IMAGE);
    expect(CLAMAV_IMAGE).toMatch(/^clamav\/clamav:\d+\.\d+\.\d+$/);
    expect(clamav).toMatchObject({ Essential: true, Memory: 3072, MemoryReservation: 1536 });
    expect(clamav.HealthCheck).toMatchObject({ StartPeriod: 300, Retries: 3 });
    expect(clamav.HealthCheck?.Command.join(' ')).toMatch(/clamdcheck\.sh/);
    expect(clamav.Environment).toEqual([{ Name: 'FRESHCLAM_CHECKS', Value: '12' }]);

    const smtp = byName.get('smtp')!;
    expect(smtp.DependsOn).toEqual([
      { ContainerName: 'rspamd', Condition: 'HEALTHY' },
      { ContainerName: 'clamav', Condition: 'HEALTHY' },
    ]);
    expect(smtp.Environment).toEqual(
      expect.arrayContaining([
        { Name: 'MAILROOM_SCAN_RSPAMD_URL', Value: 'http://127.0.0.1:11333' },
        { Name: 'MAILROOM_SCAN_CLAMAV_HOST', Value: '127.0.0.1' },
        { Name: 'MAILROOM_SCAN_CLAMAV_PORT', Value: '3310' },
      ]),
    );
    // The scanners log to the ingress's log group, each under its own prefix.
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: Match.arrayWith([
        Match.objectLike({
          Name: 'clamav',
          LogConfiguration: Match.objectLike({
            Options: Match.objectLike({ 'awslogs-stream-prefix': 'clamav' }),
          }),
        }),
      ]),
    });
    // Tasks wait for clamd to load its database before the load balancer judges them.
    template.hasResourceProperties('AWS::ECS::Service', { HealthCheckGracePeriodSeconds: 420 });
  });

  it('sizes the task for rspamd alone, and takes other images and limits', () => {
    const { task, byName } = containers(ingress({ spamFilter: true }).template);
    expect([...byName.keys()].sort()).toEqual(['rspamd', 'smtp']);
    expect(task).toMatchObject({ Cpu: '512', Memory: '2048' });
    const custom = containers(
      ingress({
        virusScan: {
          image: ecs.ContainerImage.fromRegistry('registry.example/clamav:1.4.3'),
          memoryLimitMiB: 4096,
          freshclamChecksPerDay: 24,
        },
      }).template,
    );
    expect(custom.byName.get('clamav')).toMatchObject({
      Image: 'registry.example/clamav:1.4.3',
      Memory: 4096,
      Environment: [{ Name: 'FRESHCLAM_CHECKS', Value: '24' }],
    });
    expect(custom.task).toMatchObject({ Memory: '5120' });
  });

  it('refuses a task too small for the sidecars, and MAILROOM_SCAN_* in environment', () => {
    const error = thrown(() =>
      ingress({ virusScan: true, memoryLimitMiB: 2048, environment: { MAILROOM_SCAN_RSPAMD_URL: 'x' } }),
    );
    const message = String((error as Error).message);
    expect(message).toMatch(/memoryLimitMiB 2048 is too small for the scanner sidecars: give at least 4096/);
    expect(message).toMatch(/environment must not set MAILROOM_SCAN_RSPAMD_URL/);
  });

  it('is cdk-nag clean with both sidecars', () => {
    const { stack } = ingress({ spamFilter: true, virusScan: true });
    const report = new AwsSolutionsChecks(undefined, { verbose: false }).validateScope(stack);
    const unacknowledged = report.violations.flatMap((v) =>
      v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`),
    );
    expect(unacknowledged).toEqual([]);
  });

  it('MailroomStack (cdk.json: -c spamFilter=true -c virusScan=true) adds them to the smtp ingress, cdk-nag clean; refuses them with SES', () => {
    const scope = testStack().node.scope as IConstruct;
    const stack = new MailroomStack(scope, 'MailroomScan', {
      env: { account: '123456789012', region: 'us-east-1' },
      configFile: EXAMPLE_CONFIG,
      ingress: 'smtp',
      spamFilter: true,
      virusScan: true,
    });
    const { byName } = containers(Template.fromStack(stack));
    expect([...byName.keys()].sort()).toEqual(['clamav', 'rspamd', 'smtp']);
    const report = new AwsSolutionsChecks(undefined, { verbose: false }).validateScope(stack);
    expect(
      report.violations.flatMap((v) =>
        v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`),
      ),
    ).toEqual([]);
    const error = thrown(
      () =>
        new MailroomStack(scope, 'MailroomSes', {
          env: { account: '123456789012', region: 'us-east-1' },
          configFile: EXAMPLE_CONFIG,
          ingress: 'ses',
          spamFilter: true,
        }),
    );
    expect(String((error as Error).message)).toMatch(/spamFilter and virusScan are for the smtp ingress/);
  });
});
