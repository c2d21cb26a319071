// ECharts with only the charts and parts the dashboards use. Imported dynamically by
// ChartCanvas, so the library is downloaded only when a dashboard is opened.
import * as echarts from 'echarts/core'
import { BarChart, FunnelChart, HeatmapChart, LineChart, PieChart, ScatterChart } from 'echarts/charts'
import { GridComponent, LegendComponent, TooltipComponent, VisualMapComponent } from 'echarts/components'
import { CanvasRenderer } from 'echarts/renderers'

echarts.use([BarChart, FunnelChart, HeatmapChart, LineChart, PieChart, ScatterChart, GridComponent, LegendComponent, TooltipComponent, VisualMapComponent, CanvasRenderer])

export const { init } = echarts
