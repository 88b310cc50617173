// Manifests from the seed documents, verbatim, shared by the CLI tests.

/** The calicoctl v1 `ipPool` sample of the v3.5 IPPool reference. */
export const V1_POOL = `apiVersion: v1
kind: ipPool
metadata:
  cidr: 10.1.0.0/16
spec:
  ipip:
    enabled: true
    mode: cross-subnet
  nat-outgoing: true
  disabled: false
`;

/** The kubeadm default pool of the "Manage IP pools" how-tos. */
export const DEFAULT_POOL = `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: default-ipv4-ippool
spec:
  cidr: 192.168.0.0/16
  ipipMode: Always
  natOutgoing: true
`;

/** Step 1 of both "Manage IP pools" how-tos. */
export const NEW_POOL = `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: new-pool
spec:
  cidr: 10.0.0.0/16
  ipipMode: Always
  natOutgoing: true
`;
