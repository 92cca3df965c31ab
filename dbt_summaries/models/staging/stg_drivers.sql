select
    driver_id,
    source,
    source_driver_id,
    name as driver_name
from {{ source('mre', 'drivers') }}
