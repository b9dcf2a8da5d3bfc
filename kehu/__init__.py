"""kehu (客户): a customer-management system for businesses with many repeat customers."""
