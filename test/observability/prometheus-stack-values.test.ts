import { Alertmanager, Prometheus } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { Testing } from 'cdk8s';
import { PrometheusStackValues, RauliVisionChart } from '../../src';
import { PrometheusConventions } from '../../src/conventions';
import { prometheusStackValues } from '../../src/observability/prometheus-stack-values';
import { IMAGES, synthEnvironment } from '../platform/support';

describe('kube-prometheus-stack values', () => {
  const values = prometheusStackValues();

  test('the guide\'s timing: scrape and evaluate every 15 s', () => {
    expect(values.prometheus.prometheusSpec).toMatchObject({
      scrapeInterval: PrometheusConventions.SCRAPE_INTERVAL,
      evaluationInterval: PrometheusConventions.EVALUATION_INTERVAL,
    });
    expect(PrometheusConventions.SCRAPE_INTERVAL).toBe('15s');
    expect(PrometheusConventions.EVALUATION_INTERVAL).toBe('15s');
  });

  test('prometheusSpec and alertmanagerSpec are valid Prometheus and Alertmanager specs (prometheus-operator models)', () => {
    const meta = { name: 'x', namespace: 'monitoring' };
    expect(() => new Prometheus({ metadata: meta, spec: values.prometheus.prometheusSpec }).validate()).not.toThrow();
    expect(() => new Alertmanager({ metadata: meta, spec: values.alertmanager.alertmanagerSpec }).validate()).not.toThrow();
    // A typo would pass a schema without unknown-field checks; these are the operator's field names.
    expect(Object.keys(values.alertmanager.alertmanagerSpec).sort()).toEqual(
      ['alertmanagerConfigMatcherStrategy', 'alertmanagerConfigNamespaceSelector', 'alertmanagerConfigSelector']);
  });

  test('the chart\'s values select its ServiceMonitors, rules and AlertmanagerConfig by their release label', () => {
    const chart = new RauliVisionChart(Testing.app(), 'p', { environment: 'production', images: IMAGES, monitoring: { release: 'prom', releaseLabel: 'team' } });
    const docs = Testing.synth(chart);
    const selector = { matchLabels: { team: 'prom' } };
    expect(chart.prometheusStackValues.prometheus.prometheusSpec).toMatchObject({ serviceMonitorSelector: selector, ruleSelector: selector });
    expect(chart.prometheusStackValues.alertmanager.alertmanagerSpec.alertmanagerConfigSelector).toEqual(selector);
    for (const kind of ['ServiceMonitor', 'PrometheusRule', 'AlertmanagerConfig']) {
      for (const d of docs.filter(x => x.kind === kind)) expect(d.metadata.labels.team).toBe('prom');
    }
  });

  test('the jsii entry returns the same object', () => {
    expect(PrometheusStackValues.of({ release: 'r' })).toEqual(prometheusStackValues({ release: 'r' }));
  });

  test('exporters are scraped every 30 s; bad intervals name the prop', () => {
    const docs = synthEnvironment('dev');
    const monitors = docs.filter(d => d.kind === 'ServiceMonitor');
    for (const name of ['rauli-vision-postgres-exporter', 'rauli-vision-redis-exporter']) {
      expect(monitors.find(m => m.metadata.name === name).spec.endpoints[0].interval).toBe(PrometheusConventions.EXPORTER_SCRAPE_INTERVAL);
    }
    expect(() => prometheusStackValues({ scrapeInterval: '15 seconds' })).toThrow(/Invalid scrapeInterval/);
  });

  test.each(['dev', 'staging', 'production'])('%s synthesizes the alert routing', env => {
    const config = synthEnvironment(env).find(d => d.kind === 'AlertmanagerConfig');
    expect(config.metadata).toMatchObject({ name: 'rauli-vision', namespace: `rauli-vision-${env}`, labels: { release: 'kube-prometheus-stack' } });
  });

  test('without monitoring (no prometheus-operator CRDs) there is no AlertmanagerConfig either', () => {
    expect(synthEnvironment('dev', { monitoring: { enabled: false } }).some(d => d.kind === 'AlertmanagerConfig')).toBe(false);
  });
});
