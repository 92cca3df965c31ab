select
    track_id,
    source,
    slug as track_slug,
    name as track_name,
    is_active,
    organiser,
    latitude,
    longitude
from {{ source('mre', 'tracks') }}
