// Schemas for the custom resources deploy/ uses that kubernetes-models does
// not carry, and a small validator for them (a JSON Schema subset: type,
// required, properties, additionalProperties, enum, items, pattern,
// minimum). Written from KEDA's ScaledObject reference
// (keda.sh/docs/2.x/reference/scaledobject-spec and scalers/prometheus);
// fields the project does not use are still listed so a valid object is not
// refused, and every object is closed (additionalProperties false) so a typo
// such as `maxReplicas` in a ScaledObject fails like `readinesProbe` does.

const str = { type: "string" };
const int = { type: "integer", minimum: 0 };
const stringMap = { type: "object", additionalProperties: str };
const metadata = {
  type: "object",
  required: ["name"],
  properties: {
    name: str, namespace: str, labels: stringMap, annotations: stringMap,
  },
  additionalProperties: false,
};
// HorizontalPodAutoscalerBehavior (autoscaling/v2), as KEDA passes it through.
const scalingRules = {
  type: "object",
  properties: {
    stabilizationWindowSeconds: int,
    selectPolicy: { type: "string", enum: ["Max", "Min", "Disabled"] },
    policies: {
      type: "array",
      items: {
        type: "object",
        required: ["type", "value", "periodSeconds"],
        properties: {
          type: { type: "string", enum: ["Pods", "Percent"] },
          value: { type: "integer", minimum: 1 },
          periodSeconds: { type: "integer", minimum: 1 },
        },
        additionalProperties: false,
      },
    },
  },
  additionalProperties: false,
};
// Prometheus scaler metadata: values are strings (KEDA parses them).
const prometheusMetadata = {
  type: "object",
  required: ["serverAddress", "query", "threshold"],
  properties: {
    serverAddress: { type: "string", pattern: "^https?://" },
    query: str,
    threshold: { type: "string", pattern: "^[0-9]+(\\.[0-9]+)?$" },
    activationThreshold: { type: "string", pattern: "^[0-9]+(\\.[0-9]+)?$" },
    namespace: str,
    customHeaders: str,
    queryParameters: str,
    ignoreNullValues: { type: "string", enum: ["true", "false"] },
    unsafeSsl: { type: "string", enum: ["true", "false"] },
    authModes: str,
  },
  additionalProperties: false,
};
const scaledObject = {
  type: "object",
  required: ["apiVersion", "kind", "metadata", "spec"],
  properties: {
    apiVersion: { type: "string", enum: ["keda.sh/v1alpha1"] },
    kind: { type: "string", enum: ["ScaledObject"] },
    metadata,
    spec: {
      type: "object",
      required: ["scaleTargetRef", "triggers"],
      properties: {
        scaleTargetRef: {
          type: "object",
          required: ["name"],
          properties: { apiVersion: str, kind: str, name: str, envSourceContainerName: str },
          additionalProperties: false,
        },
        pollingInterval: int,
        cooldownPeriod: int,
        initialCooldownPeriod: int,
        idleReplicaCount: int,
        minReplicaCount: int,
        maxReplicaCount: { type: "integer", minimum: 1 },
        fallback: {
          type: "object",
          required: ["failureThreshold", "replicas"],
          properties: {
            failureThreshold: { type: "integer", minimum: 1 },
            replicas: int,
            behavior: { type: "string", enum: ["static", "currentReplicas", "currentReplicasIfHigher", "currentReplicasIfLower"] },
          },
          additionalProperties: false,
        },
        advanced: {
          type: "object",
          properties: {
            restoreToOriginalReplicaCount: { type: "boolean" },
            horizontalPodAutoscalerConfig: {
              type: "object",
              properties: {
                name: str,
                behavior: {
                  type: "object",
                  properties: { scaleUp: scalingRules, scaleDown: scalingRules },
                  additionalProperties: false,
                },
              },
              additionalProperties: false,
            },
          },
          additionalProperties: false,
        },
        triggers: {
          type: "array",
          minItems: 1,
          items: {
            type: "object",
            required: ["type", "metadata"],
            properties: {
              type: { type: "string", enum: ["prometheus"] },  // the only scaler deploy/ uses
              name: str,
              metricType: { type: "string", enum: ["AverageValue", "Value", "Utilization"] },
              useCachedMetrics: { type: "boolean" },
              metadata: prometheusMetadata,
              authenticationRef: {
                type: "object",
                required: ["name"],
                properties: { name: str, kind: { type: "string", enum: ["TriggerAuthentication", "ClusterTriggerAuthentication"] } },
                additionalProperties: false,
              },
            },
            additionalProperties: false,
          },
        },
      },
      additionalProperties: false,
    },
    status: { type: "object" },
  },
  additionalProperties: false,
};

export const customSchemas = { "keda.sh/v1alpha1/ScaledObject": scaledObject };

function typeOf(v) {
  if (Array.isArray(v)) return "array";
  if (v === null) return "null";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

export function validateCustom(value, schema, where, errors) {
  const t = typeOf(value);
  if (schema.type && !(schema.type === t || (schema.type === "number" && t === "integer"))) {
    errors.push(`schema: ${where} must be ${schema.type}, is ${t}`);
    return;
  }
  if (schema.enum && !schema.enum.includes(value)) {
    errors.push(`schema: ${where} must be one of ${schema.enum.join(", ")}, is ${JSON.stringify(value)}`);
  }
  if (schema.pattern && t === "string" && !new RegExp(schema.pattern).test(value)) {
    errors.push(`schema: ${where} "${value}" does not match ${schema.pattern}`);
  }
  if (schema.minimum !== undefined && typeof value === "number" && value < schema.minimum) {
    errors.push(`schema: ${where} must be at least ${schema.minimum}`);
  }
  if (t === "array") {
    if (schema.minItems && value.length < schema.minItems) errors.push(`schema: ${where} needs ${schema.minItems}+ items`);
    if (schema.items) value.forEach((item, i) => validateCustom(item, schema.items, `${where}[${i}]`, errors));
  }
  if (t === "object") {
    for (const key of schema.required ?? []) {
      if (!(key in value)) errors.push(`schema: ${where}.${key} is required`);
    }
    for (const [key, child] of Object.entries(value)) {
      const sub = schema.properties?.[key];
      if (sub) validateCustom(child, sub, `${where}.${key}`, errors);
      else if (schema.additionalProperties === false) errors.push(`${where}: unknown field "${key}"`);
      else if (typeof schema.additionalProperties === "object") {
        validateCustom(child, schema.additionalProperties, `${where}.${key}`, errors);
      }
    }
  }
}
