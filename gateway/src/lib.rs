//! Meshwork's data plane: the federated GraphQL endpoint over every registered
//! domain. Built on the Hive Router engine with Meshwork plugins (see
//! ARCHITECTURE.md); empty until the federation work lands.
