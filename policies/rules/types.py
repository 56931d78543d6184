"""Resource type tokens the rules inspect (as registered by the providers)."""

HCLOUD_FIREWALL = "hcloud:index/firewall:Firewall"
HCLOUD_SERVER = "hcloud:index/server:Server"
HCLOUD_LOAD_BALANCER = "hcloud:index/loadBalancer:LoadBalancer"
HCLOUD_LOAD_BALANCER_SERVICE = "hcloud:index/loadBalancerService:LoadBalancerService"
HCLOUD_NETWORK = "hcloud:index/network:Network"
HCLOUD_NETWORK_ROUTE = "hcloud:index/networkRoute:NetworkRoute"
HCLOUD_PLACEMENT_GROUP = "hcloud:index/placementGroup:PlacementGroup"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
# helm.v4.Chart and yaml.v2.ConfigFile/ConfigGroup are remote components: resource policies see
# their inputs; `pulumi preview` shows stack policies their outputs plus the objects they
# register as children (the offline gate: inputs, no children).
HELM_CHART_V4 = "kubernetes:helm.sh/v4:Chart"
YAML_CONFIG_FILE = "kubernetes:yaml/v2:ConfigFile"
YAML_CONFIG_GROUP = "kubernetes:yaml/v2:ConfigGroup"
# The v1 yaml components are local: their objects are registered as their children.
YAML_V1_CONFIG_FILE = "kubernetes:yaml:ConfigFile"
YAML_V1_CONFIG_GROUP = "kubernetes:yaml:ConfigGroup"
CUSTOM_RESOURCE_DEFINITION = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"
REMOTE_COMMAND = "command:remote:Command"
K3S_NODE = "k3s-hcloud:bootstrap:K3sNode"
K3S_CLUSTER = "k3s-hcloud:index:K3sCluster"
HCLOUD_LOAD_BALANCER_NETWORK = "hcloud:index/loadBalancerNetwork:LoadBalancerNetwork"
HCLOUD_FIREWALL_ATTACHMENT = "hcloud:index/firewallAttachment:FirewallAttachment"
K8S_DEPLOYMENT = "kubernetes:apps/v1:Deployment"
