// The wording of every validation rule, in one place so that the validators, the client and the
// tests agree. IPPool texts are Calico HEAD's CEL messages (ipam-core.md §1.3) where HEAD has one,
// else libcalico's Go messages; typos in Calico's texts are kept on purpose. Where v3.32's Go
// message (surfaces.md §1.7) says it differently, the hint carries that text, so a script that
// looks for either release's words finds them.

export const POOL_MESSAGES = {
  cidrRequired: 'IPPool CIDR must be specified',
  cidrInvalid: 'IPPool CIDR must be a valid subnet',
  cidrNotMasked: 'IPPool CIDR must be strictly masked',
  cidrNotMaskedOld: 'IPPool CIDR is not strictly masked',
  linkLocal4: 'IPPool CIDR overlaps with IPv4 link local range 169.254.0.0/16',
  linkLocal6: 'IPPool CIDR overlaps with IPv6 link local range fe80::/10',
  blockSizeRange:
    'blockSize must be between 20 and 32 for IPv4 pools, and between 116 and 128 for IPv6 pools',
  blockSizeSchema: 'blockSize must be between 0 and 128',
  poolTooSmall:
    'IP pool size is too small for use with Calico IPAM. It must be equal to or greater than the block size.',
  blockSizeRangeOf: (family: 4 | 6, min: number, max: number) =>
    `IPv${family} block size must be between ${min} and ${max}`,
  linkLocalHint: (family: 4 | 6) =>
    `a pool must not overlap the IPv${family} Link Local range ${family === 4 ? '169.254.0.0/16' : 'fe80::/10'}`,
  ipipAndVxlan: 'ipipMode and vxlanMode cannot both be enabled',
  ipipAndVxlanOld: 'Cannot enable both VXLAN and IPIP on the same IPPool',
  ipipOnV6: 'IPIP is not supported on IPv6 pools',
  ipipOnV6Old: 'IPIP is not supported on an IPv6 IP pool',
  unknownUse: (use: string) => `unknown use: ${use}`,
  duplicateUse: 'allowedUses must not list a use twice',
  tooManyUses: 'allowedUses must have at most 10 items',
  loadBalancerExclusive: 'LoadBalancer cannot be combined with Workload or Tunnel allowed uses',
  loadBalancerEncap: 'LoadBalancer IP pool cannot have IPIP or VXLAN enabled',
  loadBalancerBgpExport: 'LoadBalancer IP pools cannot disable BGP export',
  loadBalancerNodeSelector:
    'IP Pool with AllowedUse LoadBalancer must have nodeSelector set to all()',
  tunnelNamespaceSelector: 'IP Pool with AllowedUse Tunnel cannot have namespaceSelector',
  globalSelector: (field: 'nodeSelector' | 'namespaceSelector') =>
    `global() selector is not valid for IPPool ${field}`,
  selectorTooLong: 'selector must be at most 1024 characters',
  overlap: (newName: string, otherName: string, otherCidr: string) =>
    `IPPool(${newName}) CIDR overlaps with IPPool(${otherName}) CIDR ${otherCidr}`,
  blockSizeConflict:
    'IPPool blocksSize conflicts with existing allocations that use a different blockSize',
  cidrImmutable: 'IPPool CIDR cannot be modified',
  blockSizeImmutable: 'IPPool BlockSize cannot be modified',
  loadBalancerSticky: 'IPPool allowed use cannot be changed from LoadBalacer to Workload or Tunnel',
} as const;

export const IPAM_CONFIG_MESSAGES = {
  nameNotDefault: 'Cannot create an IPAMConfiguration resource with a name other than "default"',
  bothDisabled: "Cannot disable 'StrictAffinity' and 'AutoAllocateBlocks' at the same time",
  maxBlocksNeedsStrict: 'MaxBlocksPerHost requires StrictAffinity to be enabled',
  maxBlocksRange: 'maxBlocksPerHost must be between 0 and 1000000',
  cooldownRange: 'ipCooldownSeconds must be between 0 and 1200',
} as const;

export const META_MESSAGES = {
  nameRequired: 'name must be specified',
  nameTooLong: 'must be no more than 253 characters',
  nameDns1123:
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
  namespaceDns1123:
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', must start and end with an alphanumeric character, and must be no more than 63 characters",
  namespaceNotAllowed: (kind: string) =>
    `namespace should not be specified for a non-namespaced resource. ${kind} is not a namespaced resource`,
  qualifiedName:
    "name part must consist of alphanumeric characters, '-', '_' or '.', must start and end with an alphanumeric character and be at most 63 characters; an optional prefix must be a DNS subdomain followed by '/'",
  labelValue:
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', must start and end with an alphanumeric character and be at most 63 characters",
  annotationsTooLarge: 'annotations must have at most 262144 bytes in total',
  resourceVersionOnCreate: 'field must not be set for a Create request',
} as const;
